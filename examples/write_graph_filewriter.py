"""Write a graph to disk and a TensorBoard event file (seed 003, sections 7-8).

    v = tf.Variable(0, name='my_variable')
    sess = tf.Session()
    tf.train.write_graph(sess.graph_def, '/tmp/my-model', 'train.pbtxt')

and ``tf.summary.FileWriter`` (the seed's ``tf.train.SummaryWriter``, renamed
in TF 1.0): passing ``sess.graph`` writes the graph into the event file, and
``add_summary`` appends the merged summaries of each step. The program then
reads everything back the TF1 way: the binary GraphDef with
``tf.GraphDef().ParseFromString`` + ``tf.import_graph_def``, the event file
with ``tf.train.summary_iterator``. It prints the files written, the imported
op count, and each logged step with its loss (w starts at 4, loss = w^2,
SGD with learning rate 0.25 halves w every step).

Usage: python write_graph_filewriter.py [LOGDIR]   (default: a temporary directory)
"""
import glob
import os
import sys
import tempfile

import graphflow as tf


def write(logdir, steps=3):
    with tf.Graph().as_default():
        v = tf.Variable(0, name='my_variable')
        w = tf.Variable(4.0, name='w')
        loss = tf.square(w, name='square_loss')
        train_op = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        tf.summary.scalar('loss', loss)
        tf.summary.scalar('weight', w)
        merged = tf.summary.merge_all()
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        text_path = tf.train.write_graph(sess.graph_def, logdir, 'train.pbtxt')
        binary_path = tf.train.write_graph(sess.graph_def, logdir, 'train.pb', as_text=False)
        # Create a summary writer, add the 'graph' to the event file.
        writer = tf.summary.FileWriter(logdir, sess.graph)
        for step in range(steps):
            summary = sess.run(merged)
            writer.add_summary(summary, global_step=step)
            sess.run(train_op)
        writer.close()
        print("my_variable = %d" % sess.run(v))
        sess.close()
    print("wrote %s and %s" % (os.path.basename(text_path), os.path.basename(binary_path)))
    return binary_path


def read_back(logdir, binary_path):
    graph_def = tf.GraphDef()
    with open(binary_path, "rb") as f:
        graph_def.ParseFromString(f.read())
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        print("imported %d ops, %d nodes in the file"
              % (len(g.get_operations()), len(graph_def.node)))
    event_files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    print("event files: %d" % len(event_files))
    has_graph = False
    for event in tf.train.summary_iterator(event_files[0]):
        if event.graph_def:
            has_graph = True
        for value in event.summary.value:
            print("step %d %s %.4f" % (event.step, value.tag, value.simple_value))
    print("graph in event file: %s" % has_graph)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        read_back(sys.argv[1], write(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            read_back(d, write(d))

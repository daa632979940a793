"""The data: image files, paired datasets and their batches, preparing and downloading them, and
the synthetic aerial-to-map set. Pure NumPy and Pillow: nothing here starts TensorFlow."""

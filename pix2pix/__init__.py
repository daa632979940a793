"""pix2pix: image-to-image translation with conditional adversarial networks, in Keras 3.

The package in layers, each importing only those below it (the contracts in .importlinter):

    cli                 the scripts' shared flags and their one-line errors
    training, authors   the training loop  |  the authors' files and published models
    inference           using a trained generator: translating, full size, export, page, scores
    model               the networks and the training step
    data                image files, datasets and batches, preparing them, the synthetic set
    storage             atomic writes
    errors, backend     the errors a user can act on  |  Keras and TensorFlow, imported quietly

Importing the package, its data layer, the authors' file reader or the scripts' flags imports no
TensorFlow (the second contract); importing TensorFlow starts no device (backend.start_devices).
"""

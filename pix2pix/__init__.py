"""pix2pix: image-to-image translation with conditional adversarial networks, in Keras 3."""

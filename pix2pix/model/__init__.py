"""The model: the U-Net generator and the PatchGAN discriminator, the composite that trains them
(the paper's training step), and the Adam update exactly as the authors' PyTorch computes it."""

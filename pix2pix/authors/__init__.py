"""The authors' files: their PyTorch `.pth` reader (which runs no code and needs no torch), the
mapping of their weights onto this project's networks, and their published generators."""

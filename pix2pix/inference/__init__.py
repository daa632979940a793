"""Using a trained generator: saving and loading it, translating in each mode, at full size and
in tiles, exporting it, serving it in a page, scoring it, plotting its translations."""

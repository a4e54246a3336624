"""Stage 2: a sketch-guided upsampler from the model's 64 px variants to the layer's resolution."""

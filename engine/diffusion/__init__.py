"""The diffusion math with no weights: schedule, noises, masks, the method's two steps, sampler.

Pure NumPy, so it is testable in milliseconds and cheap to import: nothing here may import
TensorFlow or Keras (tests/engine/test_diffusion_boundary.py holds it to that).
"""

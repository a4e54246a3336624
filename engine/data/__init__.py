"""Training data: procedural eyes, an artist's folder of drawings, sketches made from strokes."""

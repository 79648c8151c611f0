"""stemscribe piano transcription: data rendering, training, export and evaluation (PyTorch).

Run every step as a module from the repository root, e.g. `python -m training.render`.
"""

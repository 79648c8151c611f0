"""The GPU machine's side of training: a kit built here (make_kit.py) and the one command run there (run.sh)."""

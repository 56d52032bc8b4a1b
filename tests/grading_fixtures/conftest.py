"""The notebooks here are inputs of tests/test_grading.py, not tests: keep nbval off them."""

collect_ignore_glob = ["*.ipynb"]

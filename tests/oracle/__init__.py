"""TensorFlow 2 as the oracle of the test suite (DESIGN §10).

Programs written as TF 2 users write them (`programs/`, and the seeded generator `generator.py`) are run once with
real TensorFlow by `record.py` (the `oracle` extra) and their observable results are committed as golden files
(`golden/`). `tests/test_oracle_replay.py` replays every recorded program with `import engine as tf` and compares,
without TensorFlow. `observe.py` turns what a program produced into plain JSON and compares two observations.
"""

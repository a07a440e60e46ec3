"""The learning engine: classify a customer's free text into an issue type.

`serving` predicts with numpy alone (what the API imports); `training` fits and exports with scikit-learn
(only the training command and layer import it); `examples` reads labelled CSVs and holds the input cleaning
both share. Run `python -m chalicelib.classifier --help` for the train and evaluate commands.
"""

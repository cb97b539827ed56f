"""The workbench: evaluate, compare, extract, classify and estimate over a DataFrame.

Client-side only: everything here talks to a gateway through the SDK (any running gateway),
runs its requests as a durable batch job (or interactively for small sets) and returns pandas
objects. Nothing is imported until it is used (``import tokenfactory`` stays light).

| module | job |
|---|---|
| ``templates`` | a prompt template (``str.format`` or Jinja) over a row, and its columns |
| ``candidates`` | what is compared: a model/adapter/checkpoint with a template and settings |
| ``dispatch`` | run request bodies as one batch job or interactively; results by id |
| ``metrics`` | built-in metrics, callables as metrics, scoring with per-row errors |
| ``judge`` | an LLM judge whose verdict is grammar-enforced JSON |
| ``bootstrap`` | paired bootstrap confidence intervals of a mean difference |
| ``result`` | ``EvalResult``: the tidy frame, the summary, parquet, ``from_job`` |
| ``evaluate`` | ``tf.evaluate``: check everything, run, score, return an ``EvalResult`` |
| ``checks`` | what is checked before anything runs (models, schemas) |
| ``estimate`` | ``tf.estimate``: tokens, cost per tier and time before a run |
| ``extract`` / ``classify`` | typed columns and labels with confidences from logprobs |
| ``accessor`` | ``df.tf.extract`` / ``df.tf.classify`` (registered by ``import tokenfactory``) |
"""

"""``df.tf``: the workbench as a pandas accessor.

    df.tf.extract(Invoice, column="text")      # typed columns + confidences
    df.tf.classify("review", labels=["positive", "negative", "neutral"])
    df.tf.evaluate(["model-a", "model-b"], template="{question}")
    df.tf.estimate("{question}")

Registered by ``import tokenfactory`` as soon as pandas is imported (see
``tokenfactory._pandas_hook``), so importing tokenfactory does not import pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .estimate import Estimate
    from .result import EvalResult


class TokenFactoryAccessor:
    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def extract(self, schema: Any, **kwargs: Any) -> pd.DataFrame:
        """See :func:`tokenfactory.workbench.extract.extract`."""
        from .extract import extract

        return extract(self._frame, schema, **kwargs)

    def classify(self, column: str | None = None, labels: Any = (), **kwargs: Any) -> pd.DataFrame:
        """See :func:`tokenfactory.workbench.classify.classify`."""
        from .classify import classify

        return classify(self._frame, column, labels, **kwargs)

    def evaluate(self, candidates: Any, metrics: Any = None, **kwargs: Any) -> EvalResult:
        """See :func:`tokenfactory.evaluate`."""
        from .evaluate import evaluate

        return evaluate(self._frame, candidates, metrics, **kwargs)

    def estimate(self, template: str, model: str | None = None, **kwargs: Any) -> Estimate:
        """See :func:`tokenfactory.estimate`."""
        from .estimate import estimate

        return estimate(self._frame, template, model, **kwargs)


def register() -> None:
    import warnings

    import pandas as pd

    if "tf" in getattr(pd.DataFrame, "_accessors", set()):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-registering after a reload is fine
        pd.api.extensions.register_dataframe_accessor("tf")(TokenFactoryAccessor)

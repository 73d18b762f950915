"""compile / fit / evaluate / predict for `keras.Model` (Keras 3's behaviour).

One train step (forward, loss, gradients, optimizer update, metric updates) is one `engine.function`, traced once
with the batch dimension None (as Keras 3 on TensorFlow traces its train function), so a last batch smaller than the
others runs the same trace and the same compiled kernel (codegen takes the run-time batch); `fit` runs Python per
batch only to take its rows (engine.keras.models.data), call the step and report progress.

When every batch of the data has the same size (numpy data whose length the batch size divides), the step is traced
with that static batch instead: no batch can need another compile, and the static step compiles in about half the
time (the MNIST step: 0.25 s of LLVM work instead of 0.5 s) into code without run-time shape checks.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine import nest
from engine.gradient_tape import GradientTape
from engine.keras import losses as _losses
from engine.keras import metrics as _metrics
from engine.keras.callbacks import CallbackList, History
from engine.keras.masks import get_mask
from engine.keras.models.data import DataFeed, split_validation

__all__ = ["Trainer"]


def _batch_spec(x: Any, static: bool = False) -> Any:
    """The TensorSpec of a batch's tensor with its batch (first) dimension None, or as it is with `static`."""
    from engine.concrete import TensorSpec
    from engine.ops.funnel import as_tensor
    t = as_tensor(x)
    return TensorSpec(tuple(t.shape) if static or not len(t.shape) else (None,) + tuple(t.shape)[1:], t.dtype)


class _BatchStep:
    """A step method compiled once for every batch size: one engine.function per argument structure, whose
    input_signature is the first call's batch with the batch dimension None (or static, for a feed whose batches
    all have one size: `static_batch`)."""

    def __init__(self, method: Any) -> None:
        self.method = method
        self.functions: dict[Any, Any] = {}
        self.static_batch = False

    def __call__(self, *args: Any) -> Any:
        static = self.static_batch
        specs = [nest.map_structure(lambda a: _batch_spec(a, static), a) for a in args]
        key = tuple(repr(s) for s in specs)
        fn = self.functions.get(key)
        if fn is None:
            from engine.function import function
            fn = self.functions[key] = function(self.method, input_signature=specs)
        return fn(*args)


class Trainer:
    """The training half of `keras.Model`."""

    def __init__(self) -> None:
        self.compiled = False
        self.optimizer: Any = None
        self.stop_training = False
        self.history: Optional[History] = None
        self._steps: dict[str, Any] = {}

    # ---- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", **kwargs: Any) -> None:
        from engine import optimizers
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_fn = _losses.get(loss)
        self._metric_specs = list(metrics or [])
        self._weighted_specs = list(weighted_metrics or [])
        self._loss_tracker = _metrics.Mean(name="loss")
        self._compiled_metrics: Optional[list] = None
        self.run_eagerly = run_eagerly
        self._steps = {}
        self.compiled = True

    def _resolve_metric(self, spec: Any, y: Any, y_pred: Any) -> Any:
        if isinstance(spec, str) and spec in ("accuracy", "acc"):
            loss_name = getattr(self._loss_fn, "__name__", type(self._loss_fn).__name__).lower()
            if "sparse" in loss_name:
                metric = _metrics.SparseCategoricalAccuracy(name=spec)
            elif "binary" in loss_name or (y_pred.shape[-1] == 1):
                metric = _metrics.BinaryAccuracy(name=spec)
            elif len(y.shape) == len(y_pred.shape) and y.shape[-1] == y_pred.shape[-1]:
                metric = _metrics.CategoricalAccuracy(name=spec)
            else:
                metric = _metrics.SparseCategoricalAccuracy(name=spec)
            return metric
        metric = _metrics.get(spec)
        return metric

    def _build_metrics(self, y: Any, y_pred: Any) -> None:
        if self._compiled_metrics is None:
            self._compiled_metrics = [(self._resolve_metric(s, y, y_pred), False) for s in self._metric_specs] + \
                                     [(self._resolve_metric(s, y, y_pred), True) for s in self._weighted_specs]

    @property
    def metrics(self) -> list:
        if not self.compiled:
            return []
        return [self._loss_tracker] + [m for m, _ in (self._compiled_metrics or [])]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before calling `{what}()`.")

    # ---- the steps
    def compute_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self._loss_fn is None:
            raise ValueError("No loss to compute: compile(loss=...) was not given one")
        if isinstance(self._loss_fn, _losses.Loss):
            loss = self._loss_fn(y, y_pred, sample_weight)
        else:
            per = self._loss_fn(y, y_pred)  # a loss given by name or function: weighed by y_pred's mask too
            weights = _losses.masked_weights(sample_weight, get_mask(y_pred), per)
            loss = _losses.reduce_weighted(per, weights, "sum_over_batch_size")
        extra = self.losses
        for term in extra:
            loss = loss + term
        return loss

    def _update_metrics(self, loss: Any, x: Any, y: Any, y_pred: Any, sample_weight: Any) -> None:
        first = nest.flatten(x)[0]
        batch = first.shape[0]
        if batch is None:  # traced with the batch dimension None: the size of this batch, at run time
            from engine.ops import cast, shape
            batch = cast(shape(first)[0], "float32")
        self._loss_tracker.update_state(loss, sample_weight=batch)
        for metric, weighted in self._compiled_metrics or []:
            metric.update_state(y, y_pred, sample_weight if weighted else None)

    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self._update_metrics(loss, x, y, y_pred, sample_weight)
        return loss

    def test_step(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._update_metrics(loss, x, y, y_pred, sample_weight)
        return loss

    def predict_step(self, x: Any) -> Any:
        return self(x, training=False)

    def _step(self, kind: str) -> Any:
        fn = self._steps.get(kind)
        if fn is None:
            method = {"train": self.train_step, "test": self.test_step, "predict": self.predict_step}[kind]
            if getattr(self, "run_eagerly", False):
                fn = method
            else:
                fn = _BatchStep(method)
            self._steps[kind] = fn
        return fn

    def _prepare(self, feed: DataFeed) -> None:
        """Builds the model, the optimizer's slots and the metrics eagerly on the first batch, so that the compiled
        step creates no Variables."""
        x, y, sw = feed.first_batch()
        if self._compiled_metrics is None or not self.built:
            y_pred = self(x, training=False)
            if y is not None:
                self._build_metrics(y, y_pred)
        if self.optimizer is not None and self.trainable_variables:
            self.optimizer.build(self.trainable_variables)

    def _logs(self, prefix: str = "") -> dict[str, float]:
        """Metric results as floats, keys sorted (Keras 3 sorts the logs it hands to callbacks)."""
        return dict(sorted((prefix + m.name, float(m.result())) for m in self.metrics))

    # ---- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: Optional[int] = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Optional[Sequence[Any]] = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Optional[dict] = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: Optional[int] = None,
            validation_steps: Optional[int] = None, validation_batch_size: Optional[int] = None,
            validation_freq: int = 1, **kwargs: Any) -> History:
        self._assert_compiled("fit")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
        feed = DataFeed(x, y, sample_weight, batch_size, shuffle=shuffle, class_weight=class_weight,
                        steps=steps_per_epoch)
        val_feed = None
        if validation_data is not None:
            val_feed = DataFeed.from_validation(validation_data, validation_batch_size or batch_size,
                                                validation_steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        self.history = History()
        cbs = CallbackList(callbacks, model=self, history=self.history, verbose=verbose, epochs=epochs,
                           steps=feed.steps)
        self._prepare(feed)
        step = self._step("train")
        if isinstance(step, _BatchStep):
            step.static_batch = feed.uniform_batches
        self.stop_training = False
        cbs.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            for i, (xb, yb, sw) in enumerate(feed.epoch()):
                cbs.on_train_batch_begin(i)
                step(xb, yb) if sw is None else step(xb, yb, sw)
                cbs.on_train_batch_end(i, self._logs)
                if self.stop_training:
                    break
            logs = self._logs()
            if val_feed is not None and (epoch + 1) % validation_freq == 0:
                logs = dict(sorted({**logs, **self._evaluate_feed(val_feed, prefix="val_")}.items()))
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    # ---- evaluate / predict
    def _evaluate_feed(self, feed: DataFeed, prefix: str = "", cbs: Any = None) -> dict[str, float]:
        self._prepare(feed)
        step = self._step("test")
        self.reset_metrics()
        for i, (xb, yb, sw) in enumerate(feed.epoch()):
            step(xb, yb) if sw is None else step(xb, yb, sw)
            if cbs is not None:
                cbs.on_test_batch_end(i, self._logs)
        return self._logs(prefix)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: Optional[int] = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: Optional[int] = None, callbacks: Optional[Sequence[Any]] = None,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        self._assert_compiled("evaluate")
        feed = DataFeed(x, y, sample_weight, batch_size, shuffle=False, steps=steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        cbs = CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=feed.steps, mode="test")
        cbs.on_test_begin()
        logs = self._evaluate_feed(feed, cbs=cbs)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]   # loss first, then metrics in compile order
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: Optional[int] = None, verbose: Any = "auto", steps: Optional[int] = None,
                callbacks: Optional[Sequence[Any]] = None, **kwargs: Any) -> Any:
        feed = DataFeed(x, None, None, batch_size, shuffle=False, steps=steps)
        step = self._step("predict")
        verbose = 1 if verbose == "auto" else int(verbose)
        cbs = CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=feed.steps, mode="predict")
        cbs.on_predict_begin()
        outputs: list = []
        for i, (xb, _, _) in enumerate(feed.epoch()):
            outputs.append(nest.map_structure(lambda t: t.numpy(), step(xb)))
            cbs.on_predict_batch_end(i, lambda: {})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the input has no batches")
        return nest.map_structure(lambda *parts: np.concatenate(parts, axis=0), *outputs) \
            if len(outputs) > 1 else outputs[0]

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        self._assert_compiled("train_on_batch")
        feed = DataFeed(x, y, sample_weight, None, shuffle=False, whole=True)
        self._prepare(feed)
        self.reset_metrics()
        xb, yb, sw = feed.first_batch()
        self._step("train")(xb, yb) if sw is None else self._step("train")(xb, yb, sw)
        logs = self._logs()
        return logs if return_dict else self._ordered(logs)

    def _ordered(self, logs: dict[str, float]) -> Any:
        values = [logs[name] for name in self.metrics_names]
        return values if len(values) > 1 else values[0]

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        self._assert_compiled("test_on_batch")
        feed = DataFeed(x, y, sample_weight, None, shuffle=False, whole=True)
        logs = self._evaluate_feed(feed)
        return logs if return_dict else self._ordered(logs)

    def predict_on_batch(self, x: Any) -> Any:
        return nest.map_structure(lambda t: t.numpy(), self._step("predict")(x if not isinstance(x, np.ndarray)
                                                                            else _as_float32(x)))

    # ---- saving
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """A `.keras` archive, or a directory for a path without that extension (see engine.keras.saving)."""
        from engine.keras.archive import save_model
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        from engine.keras.archive import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, **kwargs: Any) -> None:
        from engine.keras.archive import load_weights
        load_weights(self, filepath)

    # ---- inspection
    def summary(self, line_length: Optional[int] = None, positions: Any = None, print_fn: Any = None,
                **kwargs: Any) -> None:
        from engine.keras.models.summary import summary
        summary(self, print_fn or print)


def _as_float32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a


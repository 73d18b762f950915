"""`keras.callbacks`: the Callback base class and History, ProgbarLogger, EarlyStopping, ModelCheckpoint,
LearningRateScheduler, ReduceLROnPlateau, CSVLogger, TerminateOnNaN and LambdaCallback (Keras 3's behaviour).

Batch-level logs are computed only when a callback asks for them (`logs` is passed as a callable internally and
turned into a dict once per batch at most), so fit stays cheap per step.
"""
from __future__ import annotations

import csv
import math
import os
from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine.keras.progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN", "LambdaCallback"]


class Callback:
    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[dict] = None) -> None: ...
    def on_train_end(self, logs: Optional[dict] = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Optional[dict] = None) -> None: ...
    def on_test_begin(self, logs: Optional[dict] = None) -> None: ...
    def on_test_end(self, logs: Optional[dict] = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Optional[dict] = None) -> None: ...
    def on_predict_begin(self, logs: Optional[dict] = None) -> None: ...
    def on_predict_end(self, logs: Optional[dict] = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Optional[dict] = None) -> None: ...


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
                "on_predict_batch_begin", "on_predict_batch_end")


def _overrides(cb: Callback, hook: str) -> bool:
    return hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)


class History(Callback):
    """Records the epoch logs: `history.history['loss']` is one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and the progress bar (verbose=1) or one line per epoch (verbose=2)."""

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self.bar: Optional[Progbar] = None
        self.seen = 0

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self.params.get("epochs", 1) > 1 or self.params.get("mode", "train") == "train":
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}", flush=True)
        self.bar, self.seen = Progbar(self.params.get("steps"), verbose=self.verbose), 0

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.seen = batch + 1
        if self.bar is not None:
            self.bar.update(self.seen, logs or {}, finalize=False)

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self.bar is not None:
            self.bar.update(self.seen, logs or {}, finalize=True)

    def on_test_begin(self, logs: Optional[dict] = None) -> None:
        if self.params.get("mode") == "test":
            self.bar, self.seen = Progbar(self.params.get("steps"), verbose=self.verbose), 0

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.params.get("mode") == "test" and self.bar is not None:
            self.seen = batch + 1
            self.bar.update(self.seen, logs or {}, finalize=False)

    def on_test_end(self, logs: Optional[dict] = None) -> None:
        if self.params.get("mode") == "test" and self.bar is not None:
            self.bar.update(self.seen, logs or {}, finalize=True)

    def on_predict_begin(self, logs: Optional[dict] = None) -> None:
        self.bar, self.seen = Progbar(self.params.get("steps"), verbose=self.verbose), 0

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self.seen = batch + 1
        if self.bar is not None:
            self.bar.update(self.seen, {}, finalize=False)

    def on_predict_end(self, logs: Optional[dict] = None) -> None:
        if self.bar is not None:
            self.bar.update(self.seen, {}, finalize=True)


class CallbackList:
    """Dispatches every hook to the callbacks, in order; batch logs are computed at most once per batch and only
    when a callback overrides that batch hook."""

    def __init__(self, callbacks: Optional[Sequence[Callback]], model: Any, history: Optional[History] = None,
                 verbose: int = 1, epochs: int = 1, steps: Optional[int] = None, mode: str = "train") -> None:
        self.callbacks = list(callbacks or [])
        if verbose and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger(verbose))
        if history is not None:
            self.callbacks.append(history)
        params = {"verbose": verbose, "epochs": epochs, "steps": steps, "mode": mode}
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch = {hook: [cb for cb in self.callbacks if _overrides(cb, hook)] for hook in _BATCH_HOOKS}

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _batch_call(self, hook: str, batch: int, logs: Any) -> None:
        targets = self._batch[hook]
        if not targets:
            return
        cached: dict = {}

        def get() -> dict:
            if "v" not in cached:
                cached["v"] = logs() if callable(logs) else (logs or {})
            return cached["v"]
        for cb in targets:
            cb_logs = get if isinstance(cb, ProgbarLogger) else get()
            getattr(cb, hook)(batch, cb_logs)

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._batch_call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._batch_call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs: Optional[dict] = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Optional[dict] = None) -> None:
        self._call("on_test_end", logs)

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        self._batch_call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs: Optional[dict] = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Optional[dict] = None) -> None:
        self._call("on_predict_end", logs)

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self._batch_call("on_predict_batch_end", batch, logs)


class _Monitor(Callback):
    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        super().__init__()
        self.monitor = monitor
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode {mode!r} is unknown (expected 'auto', 'min' or 'max')")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc") or "precision" in monitor
                             or "recall" in monitor) else "min"
        self.mode = mode
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)

    def improved(self, current: float, reference: Optional[float]) -> bool:
        if reference is None:
            return True
        return current - self.min_delta > reference if self.mode == "max" else current - self.min_delta < reference

    def value(self, logs: Optional[dict]) -> Optional[float]:
        return None if logs is None else logs.get(self.monitor)


class EarlyStopping(_Monitor):
    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: Optional[float] = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        current = self.value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self.improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(_Monitor):
    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: Optional[float] = None) -> None:
        super().__init__(monitor, mode)
        self.filepath, self.verbose, self.save_best_only = os.fspath(filepath), verbose, save_best_only
        self.save_weights_only = save_weights_only
        self.best = initial_value_threshold
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported")

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self.value(logs)
            if current is None or not self.improved(current, self.best):
                return
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")


class LearningRateScheduler(Callback):
    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        lr = float(np.asarray(self.model.optimizer.learning_rate))
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(np.asarray(new))
        if not math.isfinite(new):
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {new}')
        self.model.optimizer.learning_rate = new
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))


class ReduceLROnPlateau(_Monitor):
    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 **kwargs: Any) -> None:
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose, self.cooldown, self.min_lr = factor, patience, verbose, \
            cooldown, min_lr

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, None

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        logs = logs if logs is not None else {}
        lr = float(np.asarray(self.model.optimizer.learning_rate))
        logs["learning_rate"] = lr
        current = self.value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new = max(lr * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: Optional[list[str]] = None

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer: Any = None
        self._header = not exists

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch"] + self.keys, delimiter=self.sep)
            if self._header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        self.file.close()


class TerminateOnNaN(Callback):
    def on_train_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin: Any = None, on_epoch_end: Any = None, on_train_begin: Any = None,
                 on_train_end: Any = None, on_train_batch_begin: Any = None, on_train_batch_end: Any = None,
                 **kwargs: Any) -> None:
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                             on_train_begin=on_train_begin, on_train_end=on_train_end,
                             on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end,
                             **kwargs).items():
            if fn is not None:
                setattr(self, name, fn)

"""Automatic differentiation: the gradient tape (`tape`, eager and traced), reverse mode on the IR (`reverse`:
through cond and while_loop, with stacks) and forward mode on the IR (`forward`).

Every gradient here comes from the op table's `vjp` facets (and, where a row has one, its `jvp` facet), applied
through an emitter (`ir.emitter`).

The rules of rows whose derivative is not a plain per-result rule (cond, while_loop, call, stacks) live in
`rules_reverse` and `rules_forward`, which fill those rows' `vjp_region` / `jvp_region` facets when this package is
imported; the drivers `reverse` and `forward` read the facets and name no op.
"""
from autodiff import rules_forward, rules_reverse  # noqa: F401  (fills the rows' vjp_region / jvp_region)

"""Automatic differentiation: the gradient tape (`tape`, eager and traced), reverse mode on the IR (`reverse`:
through cond and while_loop, with stacks) and forward mode on the IR (`forward`).

Every gradient here comes from the op table's `vjp` facets (and, where a row has one, its `jvp` facet), applied
through an emitter (`ir.emitter`).
"""

"""The HistFactory core: parameters, interpolation codes, typed modifiers, the model builder,
the binned model and its data."""

"""Saving `keras.random.SeedGenerator` states with a layer's or model's weights."""


class SavesSeedStates:
    """Mixin for a Keras layer or model: its weights files also hold its `SeedGenerator` states.

    Keras saves no SeedGenerator state. The model names its generators in
    `_seed_generators_by_name()`, so that a loaded model continues the random
    sequences instead of restarting them. Files saved before a generator
    existed still load (its state is left as it is).
    """

    def _seed_generators_by_name(self):
        raise NotImplementedError

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for name, generator in self._seed_generators_by_name().items():
            store[name] = generator.state

    def load_own_variables(self, store):
        seeds = self._seed_generators_by_name()
        for name in seeds.keys() & set(store.keys()):
            seeds[name].state.assign(store[name])
        super().load_own_variables({k: store[k] for k in store.keys() if k not in seeds})

"""One registry mechanism for everything chosen by name: losses, penalties, networks."""

import keras


class Registry:
    """Names -> the classes (or builder functions) of one kind, filled by `register`.

    Args:
        kind: what the entries are, for error messages (e.g. "loss").
        argument: the argument users pass a name to (e.g. "loss").
        base: for registries of classes, their base class: `get` returns an
            instance of it given a name, a config dict or an instance.

    Example:

    ```python
    registry = Registry("loss", "loss", base=GANLoss)

    @registry.register("hinge")
    class Hinge(GANLoss): ...

    registry.get("hinge")  # Hinge()
    ```
    """

    def __init__(self, kind, argument, base=None):
        self.kind = kind
        self.argument = argument
        self.base = base
        self._entries = {}
        self._canonical = []

    def register(self, *names):
        """Decorates a class or builder, registered under `names` (the first is its name).

        Classes are also registered as Keras serializables (package "keras_gan"),
        so that saved models rebuild them.
        """

        def decorate(entry):
            for name in names:
                if name in self._entries:
                    raise ValueError(f"A {self.kind} named {name!r} is already registered.")
                self._entries[name] = entry
            self._canonical.append(names[0])
            if isinstance(entry, type):
                return keras.saving.register_keras_serializable(package="keras_gan")(entry)
            return entry

        return decorate

    def names(self, aliases=False):
        """The registered names: each entry's own name, in registration order (with `aliases`, all, sorted)."""
        return sorted(self._entries) if aliases else list(self._canonical)

    def __contains__(self, name):
        return name in self._entries

    def __getitem__(self, name):
        """The entry registered under `name`, or a ValueError naming the argument and the choices."""
        if not isinstance(name, str) or name not in self._entries:
            raise ValueError(
                f"Invalid value for argument `{self.argument}`: expected one of {self.names(aliases=True)}. "
                f"Received: {self.argument}={name!r}"
            )
        return self._entries[name]

    def get(self, identifier):
        """An instance of `base` from an instance, a config dict or a registered name."""
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, dict):
            return keras.saving.deserialize_keras_object(identifier)
        if isinstance(identifier, str) and identifier in self._entries:
            return self._entries[identifier]()
        raise ValueError(
            f"Invalid value for argument `{self.argument}`: expected one of {self.names(aliases=True)} "
            f"or a {self.base.__module__.replace('.components', '')}.{self.base.__name__} instance. "
            f"Received: {self.argument}={identifier!r}"
        )

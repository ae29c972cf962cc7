"""What every plugin declares besides its extension point's method."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Union


class Plugin:
    """The base of every plugin class (``Tax``, ``Shipping``, ``Pricing``,
    ``Payment``, ``Recommendations`` derive from it).

    A plugin module sets ``PLUGIN`` to an instance of its class; the build
    and the fixture runner find it there.
    """

    #: The extension point, set by the point's base class.
    point: ClassVar[str] = ""

    #: JSON Schema of the merchant configuration, shown to operators at
    #: install (metadata ``config-schema``) and checked on every call. Give
    #: it a ``title``, and ``description`` and ``examples`` on its properties.
    config_schema: ClassVar[Union[Dict[str, Any], str, None]] = None

    #: The plugin's name; ``[project] name`` of pyproject.toml when unset.
    name: ClassVar[Optional[str]] = None
    #: The plugin's version; ``[project] version`` of pyproject.toml when unset.
    version: ClassVar[Optional[str]] = None
    #: One sentence for the operator; ``[project] description`` when unset.
    description: ClassVar[Optional[str]] = None

    def load_config(self, config: Any) -> Any:
        """Turns the checked configuration (parsed JSON, defaults filled in)
        into what the plugin's methods get. Raise
        ``PluginError.invalid_config(...)`` for what the schema cannot express."""
        return config

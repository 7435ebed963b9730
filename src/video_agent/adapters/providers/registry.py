"""Turn a provider spec such as ``local``, ``local:draft`` or ``fal:<endpoint id>`` into a provider."""

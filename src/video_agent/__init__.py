"""Video Agent: a LangGraph plugin that turns story scenes into short videos."""

"""The demo study: the only app that knows both the explainers (it trains and renders) and the survey."""

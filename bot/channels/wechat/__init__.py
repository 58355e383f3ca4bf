"""The WeChat Official Account (公众号) channel: a thin translator between WeChat's XML and the engine."""

CHANNEL = "wechat"  # the channel name in messages, conversation keys and metrics

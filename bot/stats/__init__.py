"""Reports on the traffic records, for the people who keep the content (`qianzhu stats`)."""

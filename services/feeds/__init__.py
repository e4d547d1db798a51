"""The feed server: answers GET /<name> with the saved responses of datasets/feeds/<name>/."""

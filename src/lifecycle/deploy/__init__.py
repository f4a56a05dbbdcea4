"""Deploy targets: where a built Bento is put to serve an environment."""

# Stand-in for Docker Hub's python:3.11-slim, which this registry-less machine cannot
# pull: Debian 12's Python 3.11, so that apps/web and apps/api build as learners build them.
FROM firstapp.local/debian-minbase:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

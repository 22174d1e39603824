# Stand-in for Docker Hub's redis:7.0: Debian 12's Redis 7.0, for apps/db.
FROM firstapp.local/debian-minbase:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data

# The node image, to kind's contract: kubeadm, kubelet and kubectl in /usr/bin, the
# version in /kind/version, the default CNI and storage manifests in /kind/manifests.
# build.sh then imports the images into its containerd and commits the result.
FROM firstapp.local/kind-base:bookworm
COPY kubeadm kubelet kubectl /usr/bin/
COPY version /kind/version
COPY default-cni.yaml default-storage.yaml /kind/manifests/
ARG PAUSE_IMAGE
# restrict_oom_score_adj: without CAP_SYS_RESOURCE (see runc-without-sys-resource) no
# container may lower its OOM score below containerd's, which the pause container asks.
RUN sed -i -e "s#sandbox_image = .*#sandbox_image = \"$PAUSE_IMAGE\"#" \
           -e "s#restrict_oom_score_adj = false#restrict_oom_score_adj = true#" /etc/containerd/config.toml

"""The core the course runtime (`firstapp`) and the grader (`grader`) both stand on: the
course model (tiers, images, ports, labs), typed errors, and cluster access (`Cluster`,
`ProbePod`). It imports neither of them."""

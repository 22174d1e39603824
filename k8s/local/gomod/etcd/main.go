// Command etcd is upstream etcd's server, built from the Go module proxy at the
// version pinned in versions.env (Debian's etcd 3.4 is too old for Kubernetes 1.34).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }

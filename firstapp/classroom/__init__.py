"""Class mode: one shared cluster, many learners (`firstapp class ...`).

`roster` reads the instructor's roster, `tenancy` says what each learner gets (namespaces,
account, rights, node port, admission policy) as plain objects, `kubeconfigs` writes a
learner's kubeconfig, `operations` makes and removes all of it on the cluster,
`collection` freezes and grades the learners' work, `release` writes the learner edition.
"""

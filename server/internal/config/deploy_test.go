package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// drainExitMargin is how long after SHUTDOWN_TIMEOUT_SECONDS the relay's
// process may still take to exit (docs/deployment.md, "Graceful drain"):
// the supervisors in deploy/ must wait longer than the sum before a kill.
const drainExitMargin = 2 * time.Second

// settingIn returns the number after `name` (as in "name=10", "name: 10" or
// "name: \"10\"") in the file at path.
func settingIn(t *testing.T, path, name string) time.Duration {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `\s*[=:]\s*"?(\d+)s?"?\s*(#.*)?$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no %s", path, name)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return time.Duration(n) * time.Second
}

// TestDeployFilesWaitForTheDrain: the systemd unit, the Kubernetes manifests
// and the compose file give a draining relay more time than its bound before
// they kill it.
func TestDeployFilesWaitForTheDrain(t *testing.T) {
	t.Parallel()
	deploy := filepath.Join("..", "..", "..", "deploy")
	def := Default().Server.ShutdownTimeout

	if stop := settingIn(t, filepath.Join(deploy, "hlsrelay.service"), "TimeoutStopSec"); stop <= def+drainExitMargin {
		t.Errorf("hlsrelay.service: TimeoutStopSec %v, want more than %v + %v", stop, def, drainExitMargin)
	}
	if grace := settingIn(t, filepath.Join(deploy, "compose.yaml"), "stop_grace_period"); grace <= def+drainExitMargin {
		t.Errorf("compose.yaml: stop_grace_period %v, want more than %v + %v", grace, def, drainExitMargin)
	}
	k8s := filepath.Join(deploy, "kubernetes")
	bound := settingIn(t, filepath.Join(k8s, "configmap.yaml"), "SHUTDOWN_TIMEOUT_SECONDS")
	preStop := settingIn(t, filepath.Join(k8s, "deployment.yaml"), "seconds")
	grace := settingIn(t, filepath.Join(k8s, "deployment.yaml"), "terminationGracePeriodSeconds")
	if grace <= preStop+bound+drainExitMargin {
		t.Errorf("deployment.yaml: terminationGracePeriodSeconds %v, want more than preStop %v + SHUTDOWN_TIMEOUT_SECONDS %v + %v",
			grace, preStop, bound, drainExitMargin)
	}
}

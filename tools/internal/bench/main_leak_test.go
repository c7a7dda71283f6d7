package bench

import (
	"os"
	"testing"

	"github.com/hlsrelay/hlsrelay/tools/internal/leaktest"
)

func TestMain(m *testing.M) {
	os.Exit(leaktest.Main(m))
}

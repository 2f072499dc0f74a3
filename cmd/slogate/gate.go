package main

import (
	"errors"

	"github.com/slogate/slogate/slo/gate"
)

// exitWith turns the gate's answer into the process exit (exitError): an
// error is printed with its code; a verdict's code alone prints nothing
// more, the verdict is already on the page.
func exitWith(code gate.ExitCode, err error) error {
	if err != nil {
		return withCode(int(code), err)
	}
	if code == gate.ExitPass {
		return nil
	}
	return withCode(int(code), errors.New(""))
}

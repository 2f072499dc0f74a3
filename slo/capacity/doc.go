// Package capacity answers "how much load can it take": it models measured
// steps with the Universal Scalability Law (usl.go) and, given the steps of a
// capacity search, says where the target stops meeting its objectives.
//
// What it must not do: claim a capacity the measurements do not support. A
// model is reported with its intervals and where it stops fitting; a
// prediction is always labelled as one.
package capacity

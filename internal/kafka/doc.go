// Package kafka builds the franz-go clients the pipeline uses from one
// Config (brokers, TLS, SASL), creates and verifies the pipeline's topics,
// runs the embedded single-node broker (franz-go's kfake with a data
// directory) for development and the demo, and checks a cluster against what
// the pipeline needs (Doctor).
//
// It does not wrap *kgo.Client: components take the client this package
// builds and use franz-go directly.
package kafka

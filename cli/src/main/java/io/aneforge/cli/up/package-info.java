/**
 * {@code aneforge up}: the one-command local platform. Starts the registry, one converter worker and one
 * {@code reference-cpu} device agent as child processes on this machine (embedded S3 store on a data
 * directory, PostgreSQL for metadata), publishes the all-MiniLM-L6-v2 demo model and waits until it is
 * converted and checked. {@link io.aneforge.cli.up.Children} owns the processes and stops them all on exit.
 */
package io.aneforge.cli.up;

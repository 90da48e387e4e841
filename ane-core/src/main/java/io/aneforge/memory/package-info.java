/**
 * The JVM heap as the limit of what a package or a program may need: its size in words, and the fix
 * (a larger {@code -Xmx}) that every "does not fit" message names the same way.
 */
package io.aneforge.memory;

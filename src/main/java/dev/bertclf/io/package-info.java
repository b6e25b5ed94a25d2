/**
 * Durable files and console progress: atomic writes (temp file, fsync, rename), progress bars, and
 * child JVMs (class path, options, peak memory, and the malloc settings every launcher runs its command with). Depends
 * on nothing else in the project.
 */
package dev.bertclf.io;

/**
 * Durable files and console progress: atomic writes (temp file, fsync, rename), progress bars. Depends on nothing
 * else in the project.
 */
package dev.bertclf.io;

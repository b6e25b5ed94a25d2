/**
 * The configuration: {@code reference.conf} (every default), an experiment file and {@code -D} overrides, merged
 * and validated once into immutable records, one per section. Depends on nothing else in the project.
 */
package dev.bertclf.config;

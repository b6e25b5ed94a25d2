/**
 * Every workaround for a DL4J/ND4J 1.0.0-M2.1 defect, one class each, each opening with the symptom, the cause,
 * the test that guards it and when it can be removed. May use {@code graph}; nothing else in the project.
 */
package dev.bertclf.nd4jfix;

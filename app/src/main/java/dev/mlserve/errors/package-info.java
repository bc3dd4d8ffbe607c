/**
 * The domain's request failures, a closed set every package may throw and only http maps to a
 * status. A leaf: it depends on nothing else in the service.
 */
package dev.mlserve.errors;

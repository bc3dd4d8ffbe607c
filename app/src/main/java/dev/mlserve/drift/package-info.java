/**
 * The drift report: a job of the service's image ({@code drift}) that compares captured predictions
 * with each model version's training baseline and tells SNS when they part. A sibling of the HTTP
 * service: it reuses store (S3 client, model sources) and the capture layout, never the service
 * over HTTP.
 */
package dev.mlserve.drift;

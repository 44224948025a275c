@token @browser
Feature: The token response
  A successful token response is JSON with the access token, a refresh token (the offline scope
  was asked for), expires_in, token_type Bearer, the tenant's REST and SOAP instance URLs and the
  granted scope (RFC 6749 §5.1; Marketing Cloud Access Token for Web and Public Apps). It must not
  be cached: Cache-Control no-store.

  Background:
    Given the web app
    And the app has redeemed a fresh code at the token endpoint

  @TR-01 @req:S-14 @MUST @web
  Scenario: Every documented field is there with its JSON type
    Then the token response has these fields:
      | field             | type    |
      | access_token      | string  |
      | refresh_token     | string  |
      | expires_in        | integer |
      | token_type        | string  |
      | rest_instance_url | string  |
      | soap_instance_url | string  |
      | scope             | string  |
    And the token response's "token_type" is "Bearer"

  @TR-02 @req:S-14 @MUST @web
  Scenario: The token response is JSON
    Then the token response's media type is "application/json"

  @TR-03 @req:S-14 @MUST @web
  Scenario: The token response must not be cached
    Then the token response's "Cache-Control" header includes "no-store"

  @TR-08 @req:S-14 @MUST @web @sfmc
  Scenario: The instance URLs are HTTPS URLs on the tenant's subdomain
    Then the token response's "rest_instance_url" is an https URL on a "rest.marketingcloudapis.com" host, ending in a slash
    And the token response's "soap_instance_url" is an https URL on a "soap.marketingcloudapis.com" host, ending in a slash

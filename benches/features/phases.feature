# The flows `cargo bench --bench phases` times, step by step (not conformance checks: every
# step here is one the catalogue's scenarios use). Each outline row is one sample.
Feature: Benchmark phases

  @bench @web @browser
  Scenario Outline: A login through the browser, then a token exchange and a refresh (<n>)
    Given the web app
    And a browser with no login session
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI

    Examples:
      | n |
      | 1 |
      | 2 |
      | 3 |
      | 4 |
      | 5 |

  @bench @web @browser
  Scenario Outline: An authorization with the browser's login session, and a token exchange (<n>)
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200

    Examples:
      | n |
      | 1 |
      | 2 |
      | 3 |
      | 4 |
      | 5 |

  @bench @web @browser
  Scenario Outline: A refresh (<n>)
    Given the web app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code
    When the app refreshes its tokens
    Then the token endpoint answers 200

    Examples:
      | n |
      | 1 |
      | 2 |
      | 3 |
      | 4 |
      | 5 |
